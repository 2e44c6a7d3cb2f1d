//! Visit orders (scenic areas), partner accounts and their ledgers, partner runtime settings,
//! the callback outbox and the message sink.
//!
//! A visit-order creation or change is one transaction that takes its claims in one global
//! order — live identity numbers, then quota units, then account balances — each claim a single
//! conditional statement, so concurrent transactions never oversell and (on PostgreSQL) cannot
//! deadlock on each other's claims.

use crate::conn::{Conn, Row, Val};
use crate::{corrupt, Dialect, SqlStore};
use boxoffice_core::catalog::{PartnerId, VenueId};
use boxoffice_core::clock::Millis;
use boxoffice_core::scenic::{
    AccountBalance, AccountMove, CodeUse, IssueOutcome, LedgerEntry, Message, NewVisitOrder,
    OutboxEvent, OutboxRow, StoredMessage, VerifyCode, VisitChange, VisitEffects, VisitOrder,
    VisitOrderId, VisitOutcome, VisitPayment, VisitRefusal, VisitState, VisitTicket,
};
use boxoffice_core::store::{QuotaClaim, QuotaKey, StoreError, VisitOrderRange};
use chrono::NaiveDate;
use serde_json::{Map, Value};

const VISIT_COLUMNS: &str = "id, number, venue_id, partner_id, external_ref, state, visit_date, line, segment, total, created_ms, updated_ms, expires_ms, version, detail";

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn visit_from_row(r: &Row) -> Result<VisitOrder, StoreError> {
    let state = r.text("state")?;
    let date = r.text("visit_date")?;
    Ok(VisitOrder {
        id: r.int("id")?,
        number: r.opt_text("number")?.unwrap_or_default(),
        venue_id: r.int("venue_id")?,
        partner_id: r.int("partner_id")?,
        external_ref: r.text("external_ref")?,
        state: VisitState::parse(&state).ok_or_else(|| corrupt(format!("visit state {state}")))?,
        visit_date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(corrupt)?,
        line: r.opt_text("line")?,
        segment: r.opt_int("segment")?.map(|s| s as i32),
        total: r.int("total")?,
        created_ms: r.int("created_ms")?,
        updated_ms: r.int("updated_ms")?,
        expires_ms: r.opt_int("expires_ms")?,
        version: r.int("version")?,
        detail: serde_json::from_str(&r.text("detail")?).map_err(corrupt)?,
        tickets: Vec::new(),
    })
}

/// Loads orders selected by `where_sql` with their tickets.
async fn load_visits(
    conn: &mut dyn Conn,
    where_sql: &str,
    params: &[Val],
    lock: bool,
) -> Result<Vec<VisitOrder>, StoreError> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    let mut orders = conn
        .rows(
            &format!("SELECT {VISIT_COLUMNS} FROM visit_orders WHERE {where_sql}{suffix}"),
            params,
        )
        .await?
        .iter()
        .map(visit_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    if orders.is_empty() {
        return Ok(orders);
    }
    let ids: Vec<String> = orders.iter().map(|o| o.id.to_string()).collect();
    let rows = conn
        .rows(
            &format!(
                "SELECT order_id, status, doc FROM visit_tickets WHERE order_id IN ({}) ORDER BY order_id, seq",
                ids.join(", ")
            ),
            &[],
        )
        .await?;
    for r in rows {
        let order_id = r.int("order_id")?;
        let mut t: VisitTicket = serde_json::from_str(&r.text("doc")?).map_err(corrupt)?;
        t.status = r.int("status")? as i32;
        if let Some(o) = orders.iter_mut().find(|o| o.id == order_id) {
            o.tickets.push(t);
        }
    }
    Ok(orders)
}

async fn load_one(
    conn: &mut dyn Conn,
    where_sql: &str,
    params: &[Val],
    lock: bool,
) -> Result<Option<VisitOrder>, StoreError> {
    Ok(load_visits(conn, where_sql, params, lock)
        .await?
        .into_iter()
        .next())
}

/// Claims one quota's units in one statement (also creating its row); false when it lacks room.
pub(crate) async fn claim_one(conn: &mut dyn Conn, c: &QuotaClaim) -> Result<bool, StoreError> {
    let n = conn
        .exec(
            "INSERT INTO day_quotas (venue_id, product, visit_date, segment, used) SELECT $1, $2, $3, $4, $5 WHERE $5 <= $6 \
             ON CONFLICT (venue_id, product, visit_date, segment) DO UPDATE SET used = day_quotas.used + excluded.used \
             WHERE day_quotas.used + excluded.used <= $6",
            &[c.key.venue_id.into(), (&c.key.product).into(), (&c.key.date).into(), c.key.segment.into(), c.units.into(), c.capacity.into()],
        )
        .await?;
    Ok(n == 1)
}

pub(crate) async fn release_one(conn: &mut dyn Conn, c: &QuotaClaim) -> Result<(), StoreError> {
    if c.capacity <= 0 || c.units <= 0 {
        return Ok(());
    }
    conn.exec(
        "UPDATE day_quotas SET used = CASE WHEN used > $5 THEN used - $5 ELSE 0 END WHERE venue_id = $1 AND product = $2 AND visit_date = $3 AND segment = $4",
        &[c.key.venue_id.into(), (&c.key.product).into(), (&c.key.date).into(), c.key.segment.into(), c.units.into()],
    )
    .await?;
    Ok(())
}

fn key_order(a: &QuotaClaim, b: &QuotaClaim) -> std::cmp::Ordering {
    (a.key.venue_id, &a.key.product, &a.key.date, a.key.segment).cmp(&(
        b.key.venue_id,
        &b.key.product,
        &b.key.date,
        b.key.segment,
    ))
}

/// Applies one account move with its ledger row; `None` when it would break a balance rule.
async fn move_in(
    conn: &mut dyn Conn,
    partner: PartnerId,
    m: &AccountMove,
    order: Option<VisitOrderId>,
    actor: &str,
    now_ms: Millis,
) -> Result<Option<LedgerEntry>, StoreError> {
    conn.exec(
        "INSERT INTO partner_accounts (partner_id, account, balance, held) VALUES ($1, $2, 0, 0) ON CONFLICT (partner_id, account) DO NOTHING",
        &[partner.into(), (&m.account).into()],
    )
    .await?;
    let Some(r) = conn
        .opt(
            "UPDATE partner_accounts SET balance = balance + $3, held = held + $4 WHERE partner_id = $1 AND account = $2 \
             AND balance + $3 >= 0 AND held + $4 >= 0 AND held + $4 <= balance + $3 RETURNING balance, held",
            &[partner.into(), (&m.account).into(), m.balance_delta.into(), m.held_delta.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let balance = r.int("balance")?;
    let held = r.int("held")?;
    let id = conn
        .one(
            "INSERT INTO partner_ledger (partner_id, account, kind, amount, held_delta, balance_after, held_after, order_id, note, actor, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[partner.into(), (&m.account).into(), (&m.kind).into(), m.balance_delta.into(), m.held_delta.into(), balance.into(), held.into(), order.into(), (&m.note).into(), actor.into(), now_ms.into()],
        )
        .await?
        .int("id")?;
    Ok(Some(LedgerEntry {
        id,
        partner_id: partner,
        account: m.account.clone(),
        kind: m.kind.clone(),
        amount: m.balance_delta,
        held_delta: m.held_delta,
        balance_after: balance,
        held_after: held,
        order_id: order,
        note: m.note.clone(),
        actor: actor.to_string(),
        created_ms: now_ms,
    }))
}

/// Everything a visit-order transaction claims, releases and writes besides the order row.
/// Returns the refusal, if any (the caller then rolls back), and the segment chosen.
async fn apply_effects(
    conn: &mut dyn Conn,
    order: &mut VisitOrder,
    e: &VisitEffects,
    actor: &str,
    now_ms: Millis,
) -> Result<Option<VisitRefusal>, StoreError> {
    if let Some(c) = &e.use_code {
        let n = conn
            .exec(
                "UPDATE verify_codes SET used = 1 WHERE partner_id = $1 AND purpose = $2 AND subject = $3 AND code = $4 AND used = 0 AND expires_ms >= $5",
                &[order.partner_id.into(), (&c.purpose).into(), (&c.subject).into(), (&c.code).into(), now_ms.into()],
            )
            .await?;
        if n != 1 {
            return Ok(Some(VisitRefusal::CodeRejected));
        }
    }
    if let Some((no, platform)) = &e.settle_payment {
        let n = conn
            .exec(
                "UPDATE visit_payments SET state = 'succeeded', platform_no = $2, settled_ms = $3 WHERE out_trade_no = $1 AND order_id = $4 AND state = 'started'",
                &[no.into(), platform.into(), now_ms.into(), order.id.into()],
            )
            .await?;
        if n != 1 {
            return Ok(Some(VisitRefusal::PaymentSettled));
        }
    }
    if e.release {
        conn.exec(
            "DELETE FROM live_ids WHERE order_id = $1",
            &[order.id.into()],
        )
        .await?;
        let mut claims = std::mem::take(&mut order.detail.claims);
        claims.sort_by(key_order);
        for c in &claims {
            release_one(conn, c).await?;
        }
        order.detail.live_ids.clear();
    }
    // Uncontended writes first; the claims on shared rows (identity numbers, quotas, segments,
    // accounts) come last, so their row locks are held for as short a time as possible.
    for t in &e.tickets {
        conn.exec(
            "INSERT INTO visit_tickets (code, order_id, seq, status, doc) VALUES ($1, $2, $3, $4, $5)",
            &[(&t.code).into(), order.id.into(), t.seq.into(), t.status.into(), serde_json::to_string(t).map_err(corrupt)?.into()],
        )
        .await?;
        order.tickets.push(t.clone());
    }
    for t in &e.ticket_status {
        // Statuses are small integers from the core, never input text: inlined safely.
        let from: Vec<String> = t.from.iter().map(|f| f.to_string()).collect();
        let from = if from.is_empty() {
            "NULL".to_string()
        } else {
            from.join(", ")
        };
        let n = conn
            .exec(
                &format!("UPDATE visit_tickets SET status = $3 WHERE code = $1 AND order_id = $2 AND status IN ({from})"),
                &[(&t.code).into(), order.id.into(), t.to.into()],
            )
            .await?;
        if n != 1 {
            return Ok(Some(VisitRefusal::TicketState(t.code.clone())));
        }
        if let Some(x) = order.tickets.iter_mut().find(|x| x.code == t.code) {
            x.status = t.to;
        }
    }
    for ev in &e.events {
        conn.exec(
            "INSERT INTO outbox (partner_id, order_id, protocol, kind, payload, created_ms, next_ms, attempts, state, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, 0, 'pending', '')",
            &[order.partner_id.into(), order.id.into(), (&ev.protocol).into(), (&ev.kind).into(), ev.payload.to_string().into(), now_ms.into()],
        )
        .await?;
    }
    for m in &e.messages {
        // `{number}` stands for the order number, which a new order only gets in this transaction.
        let m = Message {
            text: m.text.replace("{number}", &order.number),
            ..m.clone()
        };
        insert_message(
            conn,
            order.venue_id,
            Some(order.partner_id),
            Some(order.id),
            &m,
            now_ms,
        )
        .await?;
    }
    let mut ids: Vec<&String> = e.live_ids.iter().collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let n = conn
            .exec(
                "INSERT INTO live_ids (venue_id, id_number, order_id) VALUES ($1, $2, $3) ON CONFLICT (venue_id, id_number) DO NOTHING",
                &[order.venue_id.into(), id.into(), order.id.into()],
            )
            .await?;
        if n != 1 {
            return Ok(Some(VisitRefusal::IdTaken(id.clone())));
        }
        order.detail.live_ids.push(id.clone());
    }
    let mut claims: Vec<&QuotaClaim> = e.quotas.iter().collect();
    claims.sort_by(|a, b| key_order(a, b));
    // Capacity 0 means unlimited: nothing to count against.
    for c in claims.into_iter().filter(|c| c.capacity > 0 && c.units > 0) {
        if !claim_one(conn, c).await? {
            return Ok(Some(VisitRefusal::QuotaFull(c.key.clone())));
        }
        if c.capacity > 0 {
            order.detail.claims.push(c.clone());
        }
    }
    if !e.segment_options.is_empty() {
        let mut chosen = None;
        'options: for (segment, claims) in &e.segment_options {
            let mut taken: Vec<&QuotaClaim> = Vec::new();
            let mut sorted: Vec<&QuotaClaim> = claims.iter().collect();
            sorted.sort_by(|a, b| key_order(a, b));
            for c in sorted.into_iter().filter(|c| c.capacity > 0 && c.units > 0) {
                if !claim_one(conn, c).await? {
                    for t in taken {
                        release_one(conn, t).await?;
                    }
                    continue 'options;
                }
                taken.push(c);
            }
            order
                .detail
                .claims
                .extend(taken.into_iter().filter(|c| c.capacity > 0).cloned());
            chosen = Some(*segment);
            break;
        }
        match chosen {
            Some(s) => order.segment = Some(s),
            None => return Ok(Some(VisitRefusal::NoSegment)),
        }
    }
    for m in &e.accounts {
        if move_in(conn, order.partner_id, m, Some(order.id), actor, now_ms)
            .await?
            .is_none()
        {
            return Ok(Some(VisitRefusal::Insufficient(m.account.clone())));
        }
    }
    Ok(None)
}

async fn insert_message(
    conn: &mut dyn Conn,
    venue: VenueId,
    partner: Option<PartnerId>,
    order: Option<VisitOrderId>,
    m: &Message,
    now_ms: Millis,
) -> Result<(), StoreError> {
    conn.exec(
        "INSERT INTO messages (venue_id, partner_id, order_id, kind, phone, text, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[venue.into(), partner.into(), order.into(), (&m.kind).into(), (&m.phone).into(), (&m.text).into(), now_ms.into()],
    )
    .await?;
    Ok(())
}

fn message_row(r: &Row) -> Result<StoredMessage, StoreError> {
    Ok(StoredMessage {
        id: r.int("id")?,
        venue_id: r.int("venue_id")?,
        partner_id: r.opt_int("partner_id")?,
        order_id: r.opt_int("order_id")?,
        message: Message {
            kind: r.text("kind")?,
            phone: r.text("phone")?,
            text: r.text("text")?,
        },
        created_ms: r.int("created_ms")?,
        sent_ms: r.opt_int("sent_ms")?,
    })
}

fn outbox_row(r: &Row) -> Result<OutboxRow, StoreError> {
    Ok(OutboxRow {
        id: r.int("id")?,
        partner_id: r.int("partner_id")?,
        order_id: r.opt_int("order_id")?,
        event: OutboxEvent {
            protocol: r.text("protocol")?,
            kind: r.text("kind")?,
            payload: serde_json::from_str(&r.text("payload")?).map_err(corrupt)?,
        },
        created_ms: r.int("created_ms")?,
        next_ms: r.int("next_ms")?,
        attempts: r.int("attempts")?,
        state: r.text("state")?,
        last_error: r.text("last_error")?,
    })
}

async fn save_order(conn: &mut dyn Conn, o: &mut VisitOrder) -> Result<(), StoreError> {
    // A delivered order's sale bill is, unless a front end named one, its own number.
    if o.detail.delivered_ms.is_some() && o.detail.sale_bill.is_empty() {
        o.detail.sale_bill = o.number.clone();
    }
    conn.exec(
        "UPDATE visit_orders SET number = $2, state = $3, segment = $4, total = $5, updated_ms = $6, expires_ms = $7, delivered_ms = $8, detail = $9 WHERE id = $1",
        &[
            o.id.into(),
            (&o.number).into(),
            o.state.as_str().into(),
            o.segment.map(i64::from).into(),
            o.total.into(),
            o.updated_ms.into(),
            o.expires_ms.into(),
            o.detail.delivered_ms.into(),
            serde_json::to_string(&o.detail).map_err(corrupt)?.into(),
        ],
    )
    .await?;
    Ok(())
}

impl SqlStore {
    pub(crate) async fn create_visit(&self, n: NewVisitOrder) -> Result<VisitOutcome, StoreError> {
        let mut tx = self.write().await?;
        let mut detail = n.detail.clone();
        detail.claims.clear();
        detail.live_ids.clear();
        let inserted = tx
            .opt(
                "INSERT INTO visit_orders (number, venue_id, partner_id, external_ref, state, visit_date, line, segment, total, created_ms, updated_ms, expires_ms, delivered_ms, detail) \
                 VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, '{}') ON CONFLICT (partner_id, external_ref) DO NOTHING RETURNING id",
                &[
                    n.venue_id.into(),
                    n.partner_id.into(),
                    (&n.external_ref).into(),
                    n.state.as_str().into(),
                    date_text(n.visit_date).into(),
                    n.line.clone().into(),
                    n.segment.map(i64::from).into(),
                    n.total.into(),
                    n.now_ms.into(),
                    n.expires_ms.into(),
                    detail.delivered_ms.into(),
                ],
            )
            .await?;
        let Some(row) = inserted else {
            tx.rollback().await?;
            let mut conn = self.read().await?;
            return match load_one(
                &mut *conn,
                "partner_id = $1 AND external_ref = $2",
                &[n.partner_id.into(), (&n.external_ref).into()],
                false,
            )
            .await?
            {
                Some(o) => Ok(VisitOutcome::Existing(Box::new(o))),
                None => Err(StoreError::Database(
                    "visit order key taken but not found".into(),
                )),
            };
        };
        let id = row.int("id")?;
        let mut order = VisitOrder {
            id,
            number: format!("{}{:010}", n.number_prefix, id),
            venue_id: n.venue_id,
            partner_id: n.partner_id,
            external_ref: n.external_ref.clone(),
            state: n.state,
            visit_date: n.visit_date,
            line: n.line.clone(),
            segment: n.segment,
            total: n.total,
            created_ms: n.now_ms,
            updated_ms: n.now_ms,
            expires_ms: n.expires_ms,
            version: 0,
            detail,
            tickets: Vec::new(),
        };
        if let Some(refusal) =
            apply_effects(&mut *tx, &mut order, &n.effects, "partner", n.now_ms).await?
        {
            tx.rollback().await?;
            return Ok(VisitOutcome::Refused(refusal));
        }
        save_order(&mut *tx, &mut order).await?;
        tx.commit().await?;
        Ok(VisitOutcome::Done(Box::new(order)))
    }

    pub(crate) async fn change_visit(&self, c: VisitChange) -> Result<VisitOutcome, StoreError> {
        let mut tx = self.write().await?;
        let lock = self.dialect() == Dialect::Postgres;
        let Some(mut order) = load_one(&mut *tx, "id = $1", &[c.order_id.into()], lock).await?
        else {
            tx.rollback().await?;
            return Ok(VisitOutcome::Refused(VisitRefusal::WrongState(None)));
        };
        if !c.from.contains(&order.state) {
            tx.rollback().await?;
            return Ok(VisitOutcome::Refused(VisitRefusal::WrongState(Some(
                order.state,
            ))));
        }
        if c.version.is_some_and(|v| v != order.version) {
            tx.rollback().await?;
            return Ok(VisitOutcome::Refused(VisitRefusal::Stale));
        }
        let moved = tx
            .exec(
                "UPDATE visit_orders SET state = $3, version = version + 1 WHERE id = $1 AND state = $2 AND version = $4",
                &[
                    order.id.into(),
                    order.state.as_str().into(),
                    c.to.as_str().into(),
                    order.version.into(),
                ],
            )
            .await?;
        order.version += 1;
        if moved != 1 {
            tx.rollback().await?;
            return Ok(VisitOutcome::Refused(VisitRefusal::WrongState(Some(
                order.state,
            ))));
        }
        if let Some(mut d) = c.detail.clone() {
            d.claims = std::mem::take(&mut order.detail.claims);
            d.live_ids = std::mem::take(&mut order.detail.live_ids);
            order.detail = d;
        }
        order.state = c.to;
        order.updated_ms = c.now_ms;
        if let Some(e) = c.expires_ms {
            order.expires_ms = e;
        }
        if c.segment.is_some() {
            order.segment = c.segment;
        }
        if let Some(refusal) =
            apply_effects(&mut *tx, &mut order, &c.effects, &c.actor, c.now_ms).await?
        {
            tx.rollback().await?;
            return Ok(VisitOutcome::Refused(refusal));
        }
        save_order(&mut *tx, &mut order).await?;
        tx.commit().await?;
        Ok(VisitOutcome::Done(Box::new(order)))
    }

    pub(crate) async fn visit_where(
        &self,
        where_sql: &str,
        params: &[Val],
    ) -> Result<Vec<VisitOrder>, StoreError> {
        let mut conn = self.read().await?;
        load_visits(&mut *conn, where_sql, params, false).await
    }

    pub(crate) async fn visit_range(
        &self,
        partner: PartnerId,
        range: VisitOrderRange,
    ) -> Result<Vec<VisitOrder>, StoreError> {
        let (sql, a, b): (&str, Val, Val) = match range {
            VisitOrderRange::Created(f, t) => ("created_ms", f.into(), t.into()),
            VisitOrderRange::Delivered(f, t) => ("delivered_ms", f.into(), t.into()),
            VisitOrderRange::Visit(f, t) => {
                ("visit_date", date_text(f).into(), date_text(t).into())
            }
        };
        self.visit_where(
            &format!(
                "partner_id = $1 AND {sql} >= $2 AND {sql} <= $3 ORDER BY created_ms DESC, id DESC"
            ),
            &[partner.into(), a, b],
        )
        .await
    }

    pub(crate) async fn quota_usage_of(
        &self,
        venue: VenueId,
        from: &str,
        to: &str,
    ) -> Result<Vec<(QuotaKey, i64)>, StoreError> {
        let mut conn = self.read().await?;
        conn.rows(
            "SELECT product, visit_date, segment, used FROM day_quotas WHERE venue_id = $1 AND visit_date >= $2 AND visit_date <= $3",
            &[venue.into(), from.into(), to.into()],
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                QuotaKey {
                    venue_id: venue,
                    product: r.text("product")?,
                    date: r.text("visit_date")?,
                    segment: r.int("segment")? as i32,
                },
                r.int("used")?,
            ))
        })
        .collect()
    }

    pub(crate) async fn accounts_of(
        &self,
        partner: PartnerId,
    ) -> Result<Vec<AccountBalance>, StoreError> {
        let mut conn = self.read().await?;
        conn.rows(
            "SELECT account, balance, held FROM partner_accounts WHERE partner_id = $1 ORDER BY account",
            &[partner.into()],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AccountBalance {
                account: r.text("account")?,
                balance: r.int("balance")?,
                held: r.int("held")?,
            })
        })
        .collect()
    }

    pub(crate) async fn move_account_of(
        &self,
        partner: PartnerId,
        m: AccountMove,
        actor: &str,
        now_ms: Millis,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let mut tx = self.write().await?;
        let entry = move_in(&mut *tx, partner, &m, None, actor, now_ms).await?;
        if entry.is_some() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(entry)
    }

    /// Creates a partner's accounts with their opening balances (existing accounts unchanged).
    pub(crate) async fn open_accounts(
        conn: &mut dyn Conn,
        partner: PartnerId,
        accounts: &std::collections::BTreeMap<String, i64>,
        now_ms: Millis,
    ) -> Result<(), StoreError> {
        for (account, opening) in accounts {
            let created = conn
                .exec(
                    "INSERT INTO partner_accounts (partner_id, account, balance, held) VALUES ($1, $2, 0, 0) ON CONFLICT (partner_id, account) DO NOTHING",
                    &[partner.into(), account.into()],
                )
                .await?;
            if created == 1 && *opening > 0 {
                let m = AccountMove {
                    account: account.clone(),
                    balance_delta: *opening,
                    held_delta: 0,
                    kind: "topup".into(),
                    note: "opening balance".into(),
                };
                move_in(conn, partner, &m, None, "catalogue", now_ms).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn ledger_of(
        &self,
        partner: PartnerId,
        account: Option<&str>,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut conn = self.read().await?;
        let rows = match account {
            Some(a) => conn.rows("SELECT * FROM partner_ledger WHERE partner_id = $1 AND account = $2 ORDER BY id", &[partner.into(), a.into()]).await?,
            None => conn.rows("SELECT * FROM partner_ledger WHERE partner_id = $1 ORDER BY id", &[partner.into()]).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(LedgerEntry {
                    id: r.int("id")?,
                    partner_id: r.int("partner_id")?,
                    account: r.text("account")?,
                    kind: r.text("kind")?,
                    amount: r.int("amount")?,
                    held_delta: r.int("held_delta")?,
                    balance_after: r.int("balance_after")?,
                    held_after: r.int("held_after")?,
                    order_id: r.opt_int("order_id")?,
                    note: r.text("note")?,
                    actor: r.text("actor")?,
                    created_ms: r.int("created_ms")?,
                })
            })
            .collect()
    }

    pub(crate) async fn settings_of(
        &self,
        partner: PartnerId,
        protocol: &str,
    ) -> Result<Map<String, Value>, StoreError> {
        let mut conn = self.read().await?;
        match conn
            .opt(
                "SELECT doc FROM partner_settings WHERE partner_id = $1 AND protocol = $2",
                &[partner.into(), protocol.into()],
            )
            .await?
        {
            Some(r) => serde_json::from_str(&r.text("doc")?).map_err(corrupt),
            None => Ok(Map::new()),
        }
    }

    pub(crate) async fn update_settings(
        &self,
        partner: PartnerId,
        protocol: &str,
        patch: Map<String, Value>,
        now_ms: Millis,
    ) -> Result<Map<String, Value>, StoreError> {
        let mut tx = self.write().await?;
        tx.exec(
            "INSERT INTO partner_settings (partner_id, protocol, doc, updated_ms) VALUES ($1, $2, '{}', $3) ON CONFLICT (partner_id, protocol) DO NOTHING",
            &[partner.into(), protocol.into(), now_ms.into()],
        )
        .await?;
        let suffix = if self.dialect() == Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let doc = tx
            .one(
                &format!("SELECT doc FROM partner_settings WHERE partner_id = $1 AND protocol = $2{suffix}"),
                &[partner.into(), protocol.into()],
            )
            .await?
            .text("doc")?;
        let mut doc: Map<String, Value> = serde_json::from_str(&doc).map_err(corrupt)?;
        for (k, v) in patch {
            if v.is_null() {
                doc.remove(&k);
            } else {
                doc.insert(k, v);
            }
        }
        tx.exec(
            "UPDATE partner_settings SET doc = $3, updated_ms = $4 WHERE partner_id = $1 AND protocol = $2",
            &[partner.into(), protocol.into(), Value::Object(doc.clone()).to_string().into(), now_ms.into()],
        )
        .await?;
        tx.commit().await?;
        Ok(doc)
    }

    pub(crate) async fn add_visit_payment_of(&self, p: VisitPayment) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        tx.exec(
            "INSERT INTO visit_payments (out_trade_no, order_id, channel, amount, state, platform_no, notify_url, created_ms, settled_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[(&p.out_trade_no).into(), p.order_id.into(), (&p.channel).into(), p.amount.into(), (&p.state).into(), (&p.platform_no).into(), (&p.notify_url).into(), p.created_ms.into(), p.settled_ms.into()],
        )
        .await?;
        tx.commit().await
    }

    pub(crate) async fn visit_payments_where(
        &self,
        where_sql: &str,
        params: &[Val],
    ) -> Result<Vec<VisitPayment>, StoreError> {
        let mut conn = self.read().await?;
        conn.rows(
            &format!(
                "SELECT * FROM visit_payments WHERE {where_sql} ORDER BY created_ms, out_trade_no"
            ),
            params,
        )
        .await?
        .iter()
        .map(|r| {
            Ok(VisitPayment {
                out_trade_no: r.text("out_trade_no")?,
                order_id: r.int("order_id")?,
                channel: r.text("channel")?,
                amount: r.int("amount")?,
                state: r.text("state")?,
                platform_no: r.text("platform_no")?,
                notify_url: r.text("notify_url")?,
                created_ms: r.int("created_ms")?,
                settled_ms: r.opt_int("settled_ms")?,
            })
        })
        .collect()
    }

    pub(crate) async fn settle_visit_payment_of(
        &self,
        out_trade_no: &str,
        state: &str,
        platform_no: &str,
        now_ms: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let n = tx
            .exec(
                "UPDATE visit_payments SET state = $2, platform_no = $3, settled_ms = $4 WHERE out_trade_no = $1 AND state = 'started'",
                &[out_trade_no.into(), state.into(), platform_no.into(), now_ms.into()],
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    pub(crate) async fn visit_ticket_of(
        &self,
        code: &str,
    ) -> Result<Option<(VisitOrderId, VisitTicket)>, StoreError> {
        let mut conn = self.read().await?;
        match conn
            .opt(
                "SELECT order_id, status, doc FROM visit_tickets WHERE code = $1",
                &[code.into()],
            )
            .await?
        {
            Some(r) => {
                let mut t: VisitTicket = serde_json::from_str(&r.text("doc")?).map_err(corrupt)?;
                t.status = r.int("status")? as i32;
                Ok(Some((r.int("order_id")?, t)))
            }
            None => Ok(None),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn issue_code_of(
        &self,
        c: VerifyCode,
        min_interval_ms: i64,
        max_per_day: i64,
        day_start_ms: Millis,
        venue: VenueId,
        message: Message,
    ) -> Result<IssueOutcome, StoreError> {
        let mut tx = self.write().await?;
        let suffix = if self.dialect() == Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let prev = tx
            .opt(
                &format!("SELECT issued_ms, sends_today FROM verify_codes WHERE partner_id = $1 AND purpose = $2 AND subject = $3{suffix}"),
                &[c.partner_id.into(), (&c.purpose).into(), (&c.subject).into()],
            )
            .await?;
        let mut sends = 0;
        if let Some(r) = prev {
            let issued = r.int("issued_ms")?;
            if c.issued_ms - issued < min_interval_ms {
                tx.rollback().await?;
                return Ok(IssueOutcome::TooSoon);
            }
            if issued >= day_start_ms {
                sends = r.int("sends_today")?;
            }
        }
        if sends >= max_per_day {
            tx.rollback().await?;
            return Ok(IssueOutcome::TooMany);
        }
        tx.exec(
            "INSERT INTO verify_codes (partner_id, purpose, subject, code, phone_index, issued_ms, expires_ms, sends_today, wrong, used) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0) ON CONFLICT (partner_id, purpose, subject) DO UPDATE SET code = excluded.code, \
             phone_index = excluded.phone_index, issued_ms = excluded.issued_ms, expires_ms = excluded.expires_ms, sends_today = excluded.sends_today, wrong = 0, used = 0",
            &[c.partner_id.into(), (&c.purpose).into(), (&c.subject).into(), (&c.code).into(), c.phone_index.into(), c.issued_ms.into(), c.expires_ms.into(), (sends + 1).into()],
        )
        .await?;
        insert_message(
            &mut *tx,
            venue,
            Some(c.partner_id),
            None,
            &message,
            c.issued_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(IssueOutcome::Issued)
    }

    pub(crate) async fn verify_code_of(
        &self,
        partner: PartnerId,
        purpose: &str,
        subject: &str,
    ) -> Result<Option<VerifyCode>, StoreError> {
        let mut conn = self.read().await?;
        conn.opt(
            "SELECT * FROM verify_codes WHERE partner_id = $1 AND purpose = $2 AND subject = $3",
            &[partner.into(), purpose.into(), subject.into()],
        )
        .await?
        .map(|r| {
            Ok(VerifyCode {
                partner_id: r.int("partner_id")?,
                purpose: r.text("purpose")?,
                subject: r.text("subject")?,
                code: r.text("code")?,
                phone_index: r.int("phone_index")?,
                issued_ms: r.int("issued_ms")?,
                expires_ms: r.int("expires_ms")?,
                sends_today: r.int("sends_today")?,
                wrong: r.int("wrong")?,
                used: r.int("used")? != 0,
            })
        })
        .transpose()
    }

    pub(crate) async fn code_wrong_try_of(
        &self,
        partner: PartnerId,
        purpose: &str,
        subject: &str,
        max_wrong: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let r = tx
            .opt(
                "UPDATE verify_codes SET wrong = wrong + 1, used = CASE WHEN wrong + 1 >= $4 THEN 1 ELSE used END \
                 WHERE partner_id = $1 AND purpose = $2 AND subject = $3 RETURNING wrong",
                &[partner.into(), purpose.into(), subject.into(), max_wrong.into()],
            )
            .await?;
        tx.commit().await?;
        r.map(|r| r.int("wrong"))
            .transpose()
            .map(|w| w.unwrap_or(0))
    }

    pub(crate) async fn use_code_of(
        &self,
        partner: PartnerId,
        c: &CodeUse,
        now_ms: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let n = tx
            .exec(
                "UPDATE verify_codes SET used = 1 WHERE partner_id = $1 AND purpose = $2 AND subject = $3 AND code = $4 AND used = 0 AND expires_ms >= $5",
                &[partner.into(), (&c.purpose).into(), (&c.subject).into(), (&c.code).into(), now_ms.into()],
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    pub(crate) async fn add_message_of(
        &self,
        venue: VenueId,
        partner: Option<PartnerId>,
        order: Option<VisitOrderId>,
        m: Message,
        now_ms: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_message(&mut *tx, venue, partner, order, &m, now_ms).await?;
        tx.commit().await
    }

    pub(crate) async fn lease_outbox_of(
        &self,
        protocol: &str,
        now_ms: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        // Only the head of each order's queue: no earlier pending row of the same order (or,
        // for rows without an order, of the same partner). Read outside the write transaction:
        // a head stays the head until it is itself finished (later events have larger ids), and
        // the lease below is a conditional update, so a row leased meanwhile is skipped.
        let rows = self
            .read()
            .await?
            .rows(
                "SELECT o.* FROM outbox o WHERE o.protocol = $1 AND o.state = 'pending' AND o.next_ms <= $2 \
                 AND (o.lease_until IS NULL OR o.lease_until < $2) \
                 AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.order_id = o.order_id AND e.id < o.id AND e.state = 'pending') \
                 AND (o.order_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM outbox e WHERE e.order_id IS NULL AND e.partner_id = o.partner_id AND e.id < o.id AND e.state = 'pending')) \
                 ORDER BY o.id LIMIT $3",
                &[protocol.into(), now_ms.into(), limit.into()],
            )
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write().await?;
        let mut out = Vec::new();
        for r in rows {
            let id = r.int("id")?;
            let n = tx
                .exec(
                    "UPDATE outbox SET lease_until = $2, attempts = attempts + 1 WHERE id = $1 AND state = 'pending' AND (lease_until IS NULL OR lease_until < $3)",
                    &[id.into(), lease_until.into(), now_ms.into()],
                )
                .await?;
            if n == 1 {
                let mut row = outbox_row(&r)?;
                row.attempts += 1;
                out.push(row);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn finish_outbox_of(
        &self,
        id: i64,
        state: &str,
        next_ms: Millis,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        tx.exec(
            "UPDATE outbox SET state = $2, next_ms = $3, last_error = $4, lease_until = NULL WHERE id = $1",
            &[id.into(), state.into(), next_ms.into(), error.into()],
        )
        .await?;
        tx.commit().await
    }

    pub(crate) async fn outbox_of(
        &self,
        partner: Option<PartnerId>,
        order: Option<VisitOrderId>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let mut conn = self.read().await?;
        let rows = conn
            .rows(
                "SELECT * FROM outbox WHERE ($1 < 0 OR partner_id = $1) AND ($2 < 0 OR order_id = $2) ORDER BY id",
                &[partner.unwrap_or(-1).into(), order.unwrap_or(-1).into()],
            )
            .await?;
        rows.iter().map(outbox_row).collect()
    }

    pub(crate) async fn messages_of(
        &self,
        phone: Option<&str>,
        order: Option<VisitOrderId>,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut conn = self.read().await?;
        let rows = conn
            .rows(
                "SELECT * FROM messages WHERE ($1 = '' OR phone = $1) AND ($2 < 0 OR order_id = $2) ORDER BY id",
                &[phone.unwrap_or("").into(), order.unwrap_or(-1).into()],
            )
            .await?;
        rows.iter().map(message_row).collect()
    }

    /// Leases the oldest unsent messages, but only while no message is leased: a batch whose
    /// sending failed keeps its lease until it runs out, and then goes out again first, so
    /// messages are passed on in the order they were written (at least once).
    pub(crate) async fn lease_messages_of(
        &self,
        now_ms: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut tx = self.write().await?;
        let rows = tx
            .rows(
                "UPDATE messages SET lease_until = $2 WHERE id IN (SELECT id FROM messages WHERE sent_ms IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.sent_ms IS NULL AND o.lease_until >= $1) \
                 ORDER BY id LIMIT $3) AND (lease_until IS NULL OR lease_until < $1) RETURNING *",
                &[now_ms.into(), lease_until.into(), limit.into()],
            )
            .await?;
        tx.commit().await?;
        let mut out: Vec<StoredMessage> = rows
            .iter()
            .map(message_row)
            .collect::<Result<_, StoreError>>()?;
        out.sort_by_key(|m| m.id);
        Ok(out)
    }

    pub(crate) async fn mark_message_sent_of(
        &self,
        id: i64,
        now_ms: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        tx.exec(
            "UPDATE messages SET sent_ms = $2, lease_until = NULL WHERE id = $1 AND sent_ms IS NULL",
            &[id.into(), now_ms.into()],
        )
        .await?;
        tx.commit().await
    }
}
