//! The one [`Store`] implementation, over SQLite (the embedded default: one file, one writer
//! connection, WAL) or PostgreSQL (several server processes on one database).
//!
//! Every inventory change is a single transaction whose claims are conditional statements
//! (check-and-claim in one statement), so correctness never depends on what a process has in
//! memory. SQL is written once with `$n` placeholders; for SQLite they become `?n`.

mod schema;

use async_trait::async_trait;
use boxoffice_core::catalog::{Partner, PartnerId, SeatKey, Session, SessionId, Venue, VenueId};
use boxoffice_core::clock::Millis;
use boxoffice_core::order::{
    Booking, BookingId, BookingState, ClientRef, Customer, Order, OrderId, OrderState, OrderTicket,
    Payment,
};
use boxoffice_core::store::{
    CancelOutcome, CollectOutcome, CompleteOutcome, HoldOutcome, NewBooking, NewHold,
    RefundOutcome, SeatClaim, Store, StoreError,
};
use rand::Rng;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Row};
use std::borrow::Cow;
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

/// A store over SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct SqlStore {
    write: AnyPool,
    read: AnyPool,
    dialect: Dialect,
}

fn db(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return StoreError::Duplicate(d.message().to_string());
        }
    }
    StoreError::Database(e.to_string())
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl SqlStore {
    /// Connects, creating the SQLite file if needed, and applies pending migrations.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url).ok_or_else(|| {
            StoreError::Database(format!("unsupported database URL scheme: {}", redact(url)))
        })?;
        let store = match dialect {
            Dialect::Sqlite => {
                let url = if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                let sync = match options.sqlite_synchronous.to_ascii_uppercase().as_str() {
                    "FULL" => "FULL",
                    "EXTRA" => "EXTRA",
                    _ => "NORMAL",
                };
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |c, _| Box::pin(sqlite_pragmas(c, sync)))
                    .connect(&url)
                    .await
                    .map_err(db)?;
                let read = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |c, _| Box::pin(sqlite_pragmas(c, sync)))
                    .connect(&url)
                    .await
                    .map_err(db)?;
                SqlStore {
                    write,
                    read,
                    dialect,
                }
            }
            Dialect::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await
                    .map_err(db)?;
                SqlStore {
                    write: pool.clone(),
                    read: pool,
                    dialect,
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Closes all connections.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    fn sql<'a>(&self, q: &'a str) -> Cow<'a, str> {
        match self.dialect {
            Dialect::Postgres => Cow::Borrowed(q),
            Dialect::Sqlite => Cow::Owned(q.replace('$', "?")),
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7262021)")
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()
            .map_err(db)?;
        let list = match self.dialect {
            Dialect::Sqlite => schema::SQLITE,
            Dialect::Postgres => schema::POSTGRES,
        };
        for (version, script) in list {
            if applied.contains(version) {
                continue;
            }
            for stmt in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(stmt).execute(&mut *tx).await.map_err(db)?;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            sqlx::query(
                &self.sql("INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)"),
            )
            .bind(*version)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn tickets_of(&self, conn: &mut AnyConnection, order: OrderId) -> Result<Vec<OrderTicket>, StoreError> {
        sqlx::query(&self.sql(
            "SELECT seq, session_id, ticket_type, area_category, price, seat_key, row_name, seat_name FROM order_tickets WHERE order_id = $1 ORDER BY seq",
        ))
        .bind(order)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?
        .iter()
        .map(ticket_from_row)
        .collect()
    }

    async fn load_order(
        &self,
        conn: &mut AnyConnection,
        where_: &str,
        key: (i64, &str),
    ) -> Result<Option<Order>, StoreError> {
        let sql = format!(
            "SELECT id, partner_id, external_ref, venue_id, state, client_class, client_id, client_name, booking_fee, total, created_ms, updated_ms, expires_ms FROM orders WHERE {where_}"
        );
        let sql = self.sql(&sql);
        let q = sqlx::query(&sql);
        let q = if where_.contains("external_ref") {
            q.bind(key.0).bind(key.1.to_string())
        } else {
            q.bind(key.0)
        };
        let Some(r) = q.fetch_optional(&mut *conn).await.map_err(db)? else {
            return Ok(None);
        };
        let id: i64 = r.try_get("id").map_err(db)?;
        let tickets = self.tickets_of(conn, id).await?;
        let state: String = r.try_get("state").map_err(db)?;
        Ok(Some(Order {
            id,
            partner_id: r.try_get("partner_id").map_err(db)?,
            external_ref: r.try_get("external_ref").map_err(db)?,
            venue_id: r.try_get("venue_id").map_err(db)?,
            state: OrderState::parse(&state)
                .ok_or_else(|| corrupt(format!("order state {state}")))?,
            client: ClientRef {
                class: r.try_get("client_class").map_err(db)?,
                id: r.try_get("client_id").map_err(db)?,
                name: r.try_get("client_name").map_err(db)?,
            },
            tickets,
            booking_fee: r.try_get("booking_fee").map_err(db)?,
            total: r.try_get("total").map_err(db)?,
            created_ms: r.try_get("created_ms").map_err(db)?,
            updated_ms: r.try_get("updated_ms").map_err(db)?,
            expires_ms: r.try_get("expires_ms").map_err(db)?,
        }))
    }

    async fn order_by_id(
        &self,
        conn: &mut AnyConnection,
        id: OrderId,
    ) -> Result<Option<Order>, StoreError> {
        self.load_order(conn, "id = $1", (id, "")).await
    }

    async fn load_booking(
        &self,
        conn: &mut AnyConnection,
        where_: &str,
        bind: Bind<'_>,
    ) -> Result<Vec<Booking>, StoreError> {
        let sql = format!(
            "SELECT b.id, b.order_id, b.number, b.trans_number, b.history_id, b.code, b.created_ms, b.state, b.collected, b.customer_name, b.customer_phone, b.customer_email, b.refunded_ms, b.refund_reason FROM bookings b JOIN orders o ON o.id = b.order_id WHERE {where_} ORDER BY b.id"
        );
        let sql = self.sql(&sql);
        let q = sqlx::query(&sql);
        let q = match bind {
            Bind::Id(a) => q.bind(a),
            Bind::IdId(a, b) => q.bind(a).bind(b),
            Bind::Text(t) => q.bind(t.to_string()),
            Bind::IdText(a, t) => q.bind(a).bind(t.to_string()),
        };
        let rows = q.fetch_all(&mut *conn).await.map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("id").map_err(db)?;
            let order_id: i64 = r.try_get("order_id").map_err(db)?;
            let order = self
                .order_by_id(conn, order_id)
                .await?
                .ok_or_else(|| corrupt("booking without order"))?;
            let payments = sqlx::query(&self.sql(
                "SELECT seq, card_masked, card_type, tender_category, value FROM booking_payments WHERE booking_id = $1 ORDER BY seq",
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
            .iter()
            .map(|p| {
                Ok(Payment {
                    seq: i32::try_from(p.try_get::<i64, _>("seq").map_err(db)?).map_err(corrupt)?,
                    card_masked: p.try_get("card_masked").map_err(db)?,
                    card_type: p.try_get("card_type").map_err(db)?,
                    tender_category: p.try_get("tender_category").map_err(db)?,
                    value: p.try_get("value").map_err(db)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
            let state: String = r.try_get("state").map_err(db)?;
            out.push(Booking {
                id,
                order,
                number: r.try_get("number").map_err(db)?,
                trans_number: r.try_get("trans_number").map_err(db)?,
                history_id: r.try_get("history_id").map_err(db)?,
                code: r.try_get("code").map_err(db)?,
                created_ms: r.try_get("created_ms").map_err(db)?,
                state: BookingState::parse(&state)
                    .ok_or_else(|| corrupt(format!("booking state {state}")))?,
                collected: r.try_get::<i64, _>("collected").map_err(db)? != 0,
                payments,
                customer: Customer {
                    name: r.try_get("customer_name").map_err(db)?,
                    phone: r.try_get("customer_phone").map_err(db)?,
                    email: r.try_get("customer_email").map_err(db)?,
                },
                refunded_ms: r.try_get("refunded_ms").map_err(db)?,
                refund_reason: r.try_get("refund_reason").map_err(db)?,
            });
        }
        Ok(out)
    }

    async fn upsert_doc(
        &self,
        conn: &mut AnyConnection,
        table: &str,
        key_where: &str,
        keys: (&str, Option<i64>),
        doc: &str,
        now_ms: Millis,
    ) -> Result<bool, StoreError> {
        let select = format!("SELECT id, doc FROM {table} WHERE {key_where}");
        let select = self.sql(&select);
        let q = sqlx::query(&select).bind(keys.0.to_string());
        let q = match keys.1 {
            Some(v) => q.bind(v),
            None => q,
        };
        match q.fetch_optional(&mut *conn).await.map_err(db)? {
            Some(r) => {
                let old: String = r.try_get("doc").map_err(db)?;
                if old == doc {
                    return Ok(false);
                }
                let id: i64 = r.try_get("id").map_err(db)?;
                let update = format!("UPDATE {table} SET doc = $1, updated_ms = $2 WHERE id = $3");
                sqlx::query(&self.sql(&update))
                    .bind(doc.to_string())
                    .bind(now_ms)
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
            }
            None => {
                let insert = match keys.1 {
                    Some(_) => format!("INSERT INTO {table} (code, venue_id, doc, updated_ms) VALUES ($1, $2, $3, $4)"),
                    None => format!("INSERT INTO {table} (code, doc, updated_ms) VALUES ($1, $2, $3)"),
                };
                let insert = self.sql(&insert);
                let q = sqlx::query(&insert).bind(keys.0.to_string());
                let q = match keys.1 {
                    Some(v) => q.bind(v),
                    None => q,
                };
                q.bind(doc.to_string())
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
            }
        }
        Ok(true)
    }

    async fn release_holds(
        &self,
        conn: &mut AnyConnection,
        order: OrderId,
    ) -> Result<Vec<SessionId>, StoreError> {
        let rows =
            sqlx::query(&self.sql(
                "DELETE FROM seat_claims WHERE order_id = $1 AND sold = 0 RETURNING session_id",
            ))
            .bind(order)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        let mut sessions: Vec<SessionId> = rows
            .iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok())
            .collect();
        sessions.sort_unstable();
        sessions.dedup();
        Ok(sessions)
    }

    async fn try_complete(&self, b: &NewBooking, code: &str) -> Result<CompleteOutcome, StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        // Claim the order: open, hold not lapsed, payments equal to the total — one statement.
        let claimed = sqlx::query(&self.sql(
            "UPDATE orders SET state = 'completed', updated_ms = $3, expires_ms = NULL WHERE partner_id = $1 AND external_ref = $2 AND state IN ('in_progress', 'payment_started') AND expires_ms >= $3 AND total = $4 RETURNING id, venue_id, client_class, client_id, client_name, booking_fee, total, created_ms, (SELECT COUNT(*) FROM order_tickets t WHERE t.order_id = orders.id) AS ticket_count, (SELECT COUNT(*) FROM order_tickets t WHERE t.order_id = orders.id AND t.seat_key IS NOT NULL) AS seated",
        ))
        .bind(b.partner_id)
        .bind(b.external_ref.clone())
        .bind(b.now_ms)
        .bind(b.paid)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(r) = claimed else {
            tx.rollback().await.map_err(db)?;
            let mut conn = self.read.acquire().await.map_err(db)?;
            let order = self.load_order(&mut conn, "partner_id = $1 AND external_ref = $2", (b.partner_id, &b.external_ref)).await?;
            return Ok(match order {
                Some(o) if o.state.is_open() && o.expires_ms.is_some_and(|e| e >= b.now_ms) => {
                    CompleteOutcome::TotalMismatch { expected: o.total }
                }
                _ => CompleteOutcome::NotOpen,
            });
        };
        let order_id: i64 = r.try_get("id").map_err(db)?;
        let ticket_count: i64 = r.try_get("ticket_count").map_err(db)?;
        let seated: i64 = r.try_get("seated").map_err(db)?;
        if ticket_count == 0 {
            tx.rollback().await.map_err(db)?;
            return Ok(CompleteOutcome::NotOpen);
        }
        let sold = sqlx::query(&self.sql("UPDATE seat_claims SET sold = 1, expires_ms = NULL WHERE order_id = $1 AND sold = 0"))
            .bind(order_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        if i64::try_from(sold).ok() != Some(seated) {
            tx.rollback().await.map_err(db)?;
            self.fail(order_id, b.now_ms).await?;
            let mut conn = self.read.acquire().await.map_err(db)?;
            let sessions = self.tickets_of(&mut conn, order_id).await?.iter().map(|t| t.session_id).collect();
            return Ok(CompleteOutcome::HoldLost(sessions));
        }
        let venue_id: i64 = r.try_get("venue_id").map_err(db)?;
        // Numbers: PostgreSQL sequences; on SQLite (one writer) the next value after the highest.
        let insert = match self.dialect {
            Dialect::Postgres => "INSERT INTO bookings (order_id, venue_id, number, trans_number, history_id, code, created_ms, state, collected, customer_name, customer_phone, customer_email) VALUES ($1, $2, nextval('booking_number'), nextval('trans_number'), nextval('history_id'), $3, $4, 'paid', 0, $5, $6, $7) RETURNING id, number, trans_number, history_id",
            Dialect::Sqlite => "INSERT INTO bookings (order_id, venue_id, number, trans_number, history_id, code, created_ms, state, collected, customer_name, customer_phone, customer_email) VALUES (?1, ?2, (SELECT COALESCE(MAX(number), 100000) + 1 FROM bookings), (SELECT COALESCE(MAX(trans_number), 300000) + 1 FROM bookings), (SELECT COALESCE(MAX(history_id), 1900000) + 1 FROM bookings), ?3, ?4, 'paid', 0, ?5, ?6, ?7) RETURNING id, number, trans_number, history_id",
        };
        let row = sqlx::query(insert)
            .bind(order_id)
            .bind(venue_id)
            .bind(code.to_string())
            .bind(b.now_ms)
            .bind(b.customer.name.clone())
            .bind(b.customer.phone.clone())
            .bind(b.customer.email.clone())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let id: i64 = row.try_get(0).map_err(db)?;
        let (number, trans, history): (i64, i64, i64) =
            (row.try_get(1).map_err(db)?, row.try_get(2).map_err(db)?, row.try_get(3).map_err(db)?);
        if !b.payments.is_empty() {
            let values: Vec<String> = (0..b.payments.len())
                .map(|i| format!("($1, ${}, ${}, ${}, ${}, ${})", i * 5 + 2, i * 5 + 3, i * 5 + 4, i * 5 + 5, i * 5 + 6))
                .collect();
            let sql = self.sql(&format!(
                "INSERT INTO booking_payments (booking_id, seq, card_masked, card_type, tender_category, value) VALUES {}",
                values.join(", ")
            ))
            .into_owned();
            let mut q = sqlx::query(&sql).bind(id);
            for p in &b.payments {
                q = q.bind(i64::from(p.seq)).bind(p.card_masked.clone()).bind(p.card_type.clone()).bind(p.tender_category.clone()).bind(p.value);
            }
            q.execute(&mut *tx).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        let mut conn = self.read.acquire().await.map_err(db)?;
        let tickets = self.tickets_of(&mut conn, order_id).await?;
        let order = Order {
            id: order_id,
            partner_id: b.partner_id,
            external_ref: b.external_ref.clone(),
            venue_id,
            state: OrderState::Completed,
            client: ClientRef {
                class: r.try_get("client_class").map_err(db)?,
                id: r.try_get("client_id").map_err(db)?,
                name: r.try_get("client_name").map_err(db)?,
            },
            tickets,
            booking_fee: r.try_get("booking_fee").map_err(db)?,
            total: r.try_get("total").map_err(db)?,
            created_ms: r.try_get("created_ms").map_err(db)?,
            updated_ms: b.now_ms,
            expires_ms: None,
        };
        Ok(CompleteOutcome::Completed(Box::new(Booking {
            id,
            order,
            number,
            trans_number: trans,
            history_id: history,
            code: code.to_string(),
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

async fn sqlite_pragmas(conn: &mut AnyConnection, synchronous: &str) -> Result<(), sqlx::Error> {
    for p in [
        "PRAGMA journal_mode=WAL",
        "PRAGMA busy_timeout=10000",
        "PRAGMA foreign_keys=ON",
    ] {
        sqlx::query(p).execute(&mut *conn).await?;
    }
    sqlx::query(&format!("PRAGMA synchronous={synchronous}"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

enum Bind<'a> {
    Id(i64),
    IdId(i64, i64),
    Text(&'a str),
    IdText(i64, &'a str),
}

fn ticket_from_row(r: &AnyRow) -> Result<OrderTicket, StoreError> {
    let seat_key: Option<String> = r.try_get("seat_key").map_err(db)?;
    Ok(OrderTicket {
        seq: i32::try_from(r.try_get::<i64, _>("seq").map_err(db)?).map_err(corrupt)?,
        session_id: r.try_get("session_id").map_err(db)?,
        ticket_type: r.try_get("ticket_type").map_err(db)?,
        area_category: r.try_get("area_category").map_err(db)?,
        price: r.try_get("price").map_err(db)?,
        seat: match seat_key {
            Some(k) => Some(SeatKey::decode(&k).ok_or_else(|| corrupt(format!("seat key {k}")))?),
            None => None,
        },
        row_name: r.try_get("row_name").map_err(db)?,
        seat_name: r.try_get("seat_name").map_err(db)?,
    })
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

/// A random confirmation code: six upper-case letters and digits.
fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[async_trait]
impl Store for SqlStore {
    async fn load_catalog(&self) -> Result<(Vec<Venue>, Vec<Session>, Vec<Partner>), StoreError> {
        let mut conn = self.read.acquire().await.map_err(db)?;
        let mut venues = Vec::new();
        for r in sqlx::query("SELECT id, doc FROM venues ORDER BY code")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
        {
            let doc: String = r.try_get("doc").map_err(db)?;
            let mut v: Venue = serde_json::from_str(&doc).map_err(corrupt)?;
            v.id = r.try_get("id").map_err(db)?;
            venues.push(v);
        }
        let mut sessions = Vec::new();
        for r in sqlx::query("SELECT id, venue_id, doc FROM sessions")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
        {
            let doc: String = r.try_get("doc").map_err(db)?;
            let mut s: Session = serde_json::from_str(&doc).map_err(corrupt)?;
            s.id = r.try_get("id").map_err(db)?;
            s.venue_id = r.try_get("venue_id").map_err(db)?;
            sessions.push(s);
        }
        let mut partners = Vec::new();
        for r in sqlx::query("SELECT id, doc FROM partners ORDER BY code")
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
        {
            let doc: String = r.try_get("doc").map_err(db)?;
            let mut p: Partner = serde_json::from_str(&doc).map_err(corrupt)?;
            p.id = r.try_get("id").map_err(db)?;
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
        let mut tx = self.write.begin().await.map_err(db)?;
        let mut changed = 0;
        for v in venues {
            let mut v = v.clone();
            v.id = 0;
            let doc = serde_json::to_string(&v).map_err(corrupt)?;
            changed += usize::from(
                self.upsert_doc(
                    &mut tx,
                    "venues",
                    "code = $1",
                    (&v.code, None),
                    &doc,
                    now_ms,
                )
                .await?,
            );
        }
        for (venue_code, s) in sessions {
            let venue_id: i64 = sqlx::query(&self.sql("SELECT id FROM venues WHERE code = $1"))
                .bind(venue_code.clone())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .ok_or_else(|| {
                    corrupt(format!(
                        "session {} names unknown venue {venue_code}",
                        s.code
                    ))
                })?
                .try_get(0)
                .map_err(db)?;
            let mut s = s.clone();
            s.id = 0;
            s.venue_id = 0;
            let doc = serde_json::to_string(&s).map_err(corrupt)?;
            changed += usize::from(
                self.upsert_doc(
                    &mut tx,
                    "sessions",
                    "code = $1 AND venue_id = $2",
                    (&s.code, Some(venue_id)),
                    &doc,
                    now_ms,
                )
                .await?,
            );
        }
        for p in partners {
            let mut p = p.clone();
            p.id = 0;
            let doc = serde_json::to_string(&p).map_err(corrupt)?;
            changed += usize::from(
                self.upsert_doc(
                    &mut tx,
                    "partners",
                    "code = $1",
                    (&p.code, None),
                    &doc,
                    now_ms,
                )
                .await?,
            );
        }
        tx.commit().await.map_err(db)?;
        Ok(changed)
    }

    async fn seat_claims(&self, session: SessionId) -> Result<Vec<SeatClaim>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT seat_key, order_id, sold, expires_ms FROM seat_claims WHERE session_id = $1",
        ))
        .bind(session)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                let key: String = r.try_get("seat_key").map_err(db)?;
                Ok(SeatClaim {
                    seat: SeatKey::decode(&key)
                        .ok_or_else(|| corrupt(format!("seat key {key}")))?,
                    order_id: r.try_get("order_id").map_err(db)?,
                    sold: r.try_get::<i64, _>("sold").map_err(db)? != 0,
                    expires_ms: r.try_get("expires_ms").map_err(db)?,
                })
            })
            .collect()
    }

    async fn hold(&self, h: NewHold) -> Result<HoldOutcome, StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let new_total: i64 = h.tickets.iter().map(|t| t.price).sum();
        // A new order key (the common case) is created in one statement.
        let inserted: Option<i64> = sqlx::query(&self.sql(
            "INSERT INTO orders (partner_id, external_ref, venue_id, state, client_class, client_id, client_name, booking_fee, total, created_ms, updated_ms, expires_ms) VALUES ($1, $2, $3, 'in_progress', $4, $5, $6, $7, $8, $9, $9, $10) ON CONFLICT (partner_id, external_ref) DO NOTHING RETURNING id",
        ))
        .bind(h.partner_id)
        .bind(h.external_ref.clone())
        .bind(h.venue_id)
        .bind(h.client.class.clone())
        .bind(h.client.id.clone())
        .bind(h.client.name.clone())
        .bind(h.booking_fee)
        .bind(h.booking_fee + new_total)
        .bind(h.now_ms)
        .bind(h.expires_ms)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(db)?;
        let existing = match inserted {
            Some(_) => None,
            None => Some(
                sqlx::query(&self.sql(
                    "SELECT id, state, venue_id, expires_ms, created_ms FROM orders WHERE partner_id = $1 AND external_ref = $2",
                ))
                .bind(h.partner_id)
                .bind(h.external_ref.clone())
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?,
            ),
        };
        let (order_id, kept, created_ms) = match existing {
            Some(r) => {
                let id: i64 = r.try_get("id").map_err(db)?;
                let state: String = r.try_get("state").map_err(db)?;
                let state = OrderState::parse(&state).ok_or_else(|| corrupt(format!("order state {state}")))?;
                let expires: Option<i64> = r.try_get("expires_ms").map_err(db)?;
                let venue: i64 = r.try_get("venue_id").map_err(db)?;
                match state {
                    OrderState::Completed | OrderState::Failed => return Ok(HoldOutcome::OrderClosed),
                    OrderState::PaymentStarted => return Ok(HoldOutcome::OrderLocked),
                    _ => {}
                }
                let live = state == OrderState::InProgress && expires.is_some_and(|e| e >= h.now_ms);
                if live && venue != h.venue_id {
                    return Ok(HoldOutcome::VenueMismatch);
                }
                let kept = if live {
                    // Replace this session's tickets; keep the rest, which live as long as the order.
                    sqlx::query(&self.sql("DELETE FROM seat_claims WHERE order_id = $1 AND session_id = $2 AND sold = 0"))
                        .bind(id)
                        .bind(h.session_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query(&self.sql("DELETE FROM order_tickets WHERE order_id = $1 AND session_id = $2"))
                        .bind(id)
                        .bind(h.session_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query(&self.sql("UPDATE seat_claims SET expires_ms = $2 WHERE order_id = $1 AND sold = 0"))
                        .bind(id)
                        .bind(h.expires_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    self.tickets_of(&mut tx, id).await?
                } else {
                    // Expired or cancelled: start afresh under the same key.
                    self.release_holds(&mut tx, id).await?;
                    sqlx::query(&self.sql("DELETE FROM order_tickets WHERE order_id = $1"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    Vec::new()
                };
                let total = h.booking_fee + new_total + kept.iter().map(|t| t.price).sum::<i64>();
                sqlx::query(&self.sql(
                    "UPDATE orders SET state = 'in_progress', venue_id = $2, client_class = $3, client_id = $4, client_name = $5, updated_ms = $6, expires_ms = $7, booking_fee = $8, total = $9 WHERE id = $1",
                ))
                .bind(id)
                .bind(h.venue_id)
                .bind(h.client.class.clone())
                .bind(h.client.id.clone())
                .bind(h.client.name.clone())
                .bind(h.now_ms)
                .bind(h.expires_ms)
                .bind(h.booking_fee)
                .bind(total)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                (id, kept, r.try_get::<i64, _>("created_ms").map_err(db)?)
            }
            None => (inserted.ok_or_else(|| corrupt("order neither inserted nor found"))?, Vec::new(), h.now_ms),
        };
        // Claim every seat in one conditional upsert: a seat is taken over only if nobody holds
        // it (no row), its hold ran out, or this order holds it already.
        let seats: Vec<String> = h.tickets.iter().filter_map(|t| t.seat.map(|k| k.encode())).collect();
        if !seats.is_empty() {
            let values: Vec<String> = (0..seats.len()).map(|i| format!("($1, ${}, $2, 0, $3)", i + 5)).collect();
            let sql = self.sql(&format!(
                "INSERT INTO seat_claims (session_id, seat_key, order_id, sold, expires_ms) VALUES {} \
                 ON CONFLICT (session_id, seat_key) DO UPDATE SET order_id = excluded.order_id, sold = 0, expires_ms = excluded.expires_ms \
                 WHERE seat_claims.sold = 0 AND (seat_claims.expires_ms < $4 OR seat_claims.order_id = excluded.order_id)",
                values.join(", ")
            ))
            .into_owned();
            let mut q = sqlx::query(&sql).bind(h.session_id).bind(order_id).bind(h.expires_ms).bind(h.now_ms);
            for s in &seats {
                q = q.bind(s.clone());
            }
            let claimed = q.execute(&mut *tx).await.map_err(db)?.rows_affected();
            if usize::try_from(claimed).ok() != Some(seats.len()) {
                tx.rollback().await.map_err(db)?;
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
            let values: Vec<String> = (0..new.len())
                .map(|i| {
                    let b = i * 8 + 2;
                    format!("($1, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})", b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7)
                })
                .collect();
            let sql = self.sql(&format!(
                "INSERT INTO order_tickets (order_id, seq, session_id, ticket_type, area_category, price, seat_key, row_name, seat_name) VALUES {}",
                values.join(", ")
            ))
            .into_owned();
            let mut q = sqlx::query(&sql).bind(order_id);
            for t in new {
                q = q
                    .bind(i64::from(t.seq))
                    .bind(t.session_id)
                    .bind(t.ticket_type.clone())
                    .bind(t.area_category.clone())
                    .bind(t.price)
                    .bind(t.seat.map(|k| k.encode()))
                    .bind(t.row_name.clone())
                    .bind(t.seat_name.clone());
            }
            q.execute(&mut *tx).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        let total = h.booking_fee + tickets.iter().map(|t| t.price).sum::<i64>();
        Ok(HoldOutcome::Held(Order {
            id: order_id,
            partner_id: h.partner_id,
            external_ref: h.external_ref,
            venue_id: h.venue_id,
            state: OrderState::InProgress,
            client: h.client,
            tickets,
            booking_fee: h.booking_fee,
            total,
            created_ms,
            updated_ms: h.now_ms,
            expires_ms: Some(h.expires_ms),
        }))
    }

    async fn order_ref(&self, partner: PartnerId, external_ref: &str) -> Result<Option<(OrderId, OrderState)>, StoreError> {
        let row = sqlx::query(&self.sql("SELECT id, state FROM orders WHERE partner_id = $1 AND external_ref = $2"))
            .bind(partner)
            .bind(external_ref.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        match row {
            None => Ok(None),
            Some(r) => {
                let state: String = r.try_get("state").map_err(db)?;
                let state = OrderState::parse(&state).ok_or_else(|| corrupt(format!("order state {state}")))?;
                Ok(Some((r.try_get("id").map_err(db)?, state)))
            }
        }
    }

    async fn order(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Option<Order>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(db)?;
        self.load_order(
            &mut conn,
            "partner_id = $1 AND external_ref = $2",
            (partner, external_ref),
        )
        .await
    }

    async fn start_payment(
        &self,
        order: OrderId,
        now_ms: Millis,
        expires_ms: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let n = sqlx::query(&self.sql(
            "UPDATE orders SET state = 'payment_started', updated_ms = $2, expires_ms = $3 WHERE id = $1 AND state IN ('in_progress', 'payment_started') AND expires_ms >= $2",
        ))
        .bind(order)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if n == 1 {
            sqlx::query(
                &self
                    .sql("UPDATE seat_claims SET expires_ms = $2 WHERE order_id = $1 AND sold = 0"),
            )
            .bind(order)
            .bind(expires_ms)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(n == 1)
    }

    async fn cancel(&self, order: OrderId, now_ms: Millis) -> Result<CancelOutcome, StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let state: Option<String> =
            sqlx::query(&self.sql("SELECT state FROM orders WHERE id = $1"))
                .bind(order)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(db)?;
        let outcome = match state.as_deref().and_then(OrderState::parse) {
            Some(OrderState::Completed) => CancelOutcome::AlreadyCompleted,
            Some(s) if s.is_open() => {
                sqlx::query(&self.sql(
                    "UPDATE orders SET state = 'cancelled', updated_ms = $2, expires_ms = NULL WHERE id = $1 AND state IN ('in_progress', 'payment_started')",
                ))
                .bind(order)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                self.release_holds(&mut tx, order).await?;
                CancelOutcome::Cancelled
            }
            _ => CancelOutcome::NothingToCancel,
        };
        tx.commit().await.map_err(db)?;
        Ok(outcome)
    }

    async fn fail(&self, order: OrderId, now_ms: Millis) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let n = sqlx::query(&self.sql(
            "UPDATE orders SET state = 'failed', updated_ms = $2, expires_ms = NULL WHERE id = $1 AND state IN ('in_progress', 'payment_started')",
        ))
        .bind(order)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        self.release_holds(&mut tx, order).await?;
        tx.commit().await.map_err(db)?;
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
        let mut conn = self.read.acquire().await.map_err(db)?;
        Ok(self
            .load_booking(
                &mut conn,
                "b.venue_id = $1 AND b.number = $2",
                Bind::IdId(venue, number),
            )
            .await?
            .pop())
    }

    async fn booking_by_code(&self, code: &str) -> Result<Option<Booking>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(db)?;
        Ok(self
            .load_booking(&mut conn, "b.code = $1", Bind::Text(code))
            .await?
            .pop())
    }

    async fn bookings_by_order_ref(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Vec<Booking>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(db)?;
        self.load_booking(
            &mut conn,
            "o.partner_id = $1 AND o.external_ref = $2",
            Bind::IdText(partner, external_ref),
        )
        .await
    }

    async fn refund(
        &self,
        booking: BookingId,
        reason: &str,
        now_ms: Millis,
    ) -> Result<RefundOutcome, StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let n = sqlx::query(&self.sql(
            "UPDATE bookings SET state = 'refunded', refunded_ms = $2, refund_reason = $3 WHERE id = $1 AND state = 'paid' AND collected = 0",
        ))
        .bind(booking)
        .bind(now_ms)
        .bind(reason.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        let b = self
            .load_booking(&mut tx, "b.id = $1", Bind::Id(booking))
            .await?
            .pop()
            .ok_or_else(|| corrupt("booking vanished"))?;
        if n != 1 {
            tx.rollback().await.map_err(db)?;
            return Ok(if b.state == BookingState::Refunded {
                RefundOutcome::AlreadyRefunded
            } else {
                RefundOutcome::Collected
            });
        }
        sqlx::query(&self.sql("DELETE FROM seat_claims WHERE order_id = $1"))
            .bind(b.order.id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(RefundOutcome::Refunded(Box::new(b)))
    }

    async fn collect(
        &self,
        booking: BookingId,
        _now_ms: Millis,
    ) -> Result<CollectOutcome, StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query(
            &self.sql("UPDATE bookings SET collected = 1 WHERE id = $1 AND state = 'paid'"),
        )
        .bind(booking)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let b = self
            .load_booking(&mut tx, "b.id = $1", Bind::Id(booking))
            .await?
            .pop()
            .ok_or_else(|| corrupt("booking vanished"))?;
        tx.commit().await.map_err(db)?;
        Ok(if b.state == BookingState::Refunded {
            CollectOutcome::Refunded
        } else {
            CollectOutcome::Collected(Box::new(b))
        })
    }

    async fn expire_orders(&self, now_ms: Millis) -> Result<Vec<SessionId>, StoreError> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let ids: Vec<i64> = sqlx::query(&self.sql(
            "UPDATE orders SET state = 'expired', updated_ms = $1 WHERE state = 'in_progress' AND expires_ms < $1 RETURNING id",
        ))
        .bind(now_ms)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()
        .map_err(db)?;
        let mut sessions = Vec::new();
        for id in ids {
            sessions.extend(self.release_holds(&mut tx, id).await?);
        }
        tx.commit().await.map_err(db)?;
        sessions.sort_unstable();
        sessions.dedup();
        Ok(sessions)
    }
}
